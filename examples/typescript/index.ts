// Gloo Edge reading its secrets from HashiCorp Vault with EKS IRSA, for one cluster, from TypeScript:
// one GlooVaultIrsa (the gloo-vault-irsa component package, added with `pulumi package add`) built
// from this stack's config. The keys are the Python program's (docs/configuration.md), under this
// project's namespace; a key left unset keeps the package's default, and a bad value stops
// `pulumi preview` with the package's one line (`gloo-vault-irsa:region: expected ...`).
import * as pulumi from "@pulumi/pulumi";
import * as glooVaultIrsa from "@pulumi/gloo-vault-irsa";

const config = new pulumi.Config();

const irsa = new glooVaultIrsa.GlooVaultIrsa("gloo-vault-irsa", {
    // The cluster, and how Pulumi reaches it.
    clusterName: config.get("clusterName"),
    region: config.get("region"),
    environment: config.get("environment"),
    adoptOidcProvider: config.getBoolean("adoptOidcProvider"),
    kubeconfig: config.getSecret("kubeconfig"),
    kubeContext: config.get("kubeContext"),
    clusterStackRef: config.get("clusterStackRef"),
    clusterStackOidc: config.getBoolean("clusterStackOidc"),
    clusterStackOutputs: config.getObject<Record<string, string>>("clusterStackOutputs"),
    // IAM.
    iamRolePath: config.get("iamRolePath"),
    iamPermissionsBoundaryArn: config.get("iamPermissionsBoundaryArn"),
    iamMaxSessionDuration: config.get("iamMaxSessionDuration"),
    awsDefaultTags: config.getObject<Record<string, string>>("awsDefaultTags"),
    // Vault.
    vaultTopology: config.get("vaultTopology"),
    vaultToken: config.requireSecret("vaultToken"),
    vaultAddress: config.get("vaultAddress"),
    vaultProviderAddress: config.get("vaultProviderAddress"),
    vaultCaCert: config.get("vaultCaCert"),
    vaultNamespace: config.get("vaultNamespace"),
    vaultServiceAccount: config.get("vaultServiceAccount"),
    vaultChartVersion: config.get("vaultChartVersion"),
    vaultAwsPrincipalArn: config.get("vaultAwsPrincipalArn"),
    vaultCrossAccountPrincipalArn: config.get("vaultCrossAccountPrincipalArn"),
    iamServerIdHeader: config.get("iamServerIdHeader"),
    authMountPath: config.get("authMountPath"),
    adoptAuthMount: config.getBoolean("adoptAuthMount"),
    kvPath: config.get("kvPath"),
    adoptKvMount: config.getBoolean("adoptKvMount"),
    kvRetainOnDelete: config.getBoolean("kvRetainOnDelete"),
    vaultPolicyName: config.get("vaultPolicyName"),
    vaultPolicyMode: config.get("vaultPolicyMode"),
    tokenMaxTtl: config.get("tokenMaxTtl"),
    // Gloo.
    glooEdition: config.get("glooEdition"),
    glooChartVersion: config.get("glooChartVersion"),
    glooLicenseKey: config.getSecret("glooLicenseKey"),
    glooReleaseName: config.get("glooReleaseName"),
    glooNamespace: config.get("glooNamespace"),
    glooServiceAccounts: config.getObject<string[]>("glooServiceAccounts"),
    glooRootKey: config.get("glooRootKey"),
    glooVaultCaCertPath: config.get("glooVaultCaCertPath"),
    // Verification: a Job logging in as Gloo does.
    loginCheck: config.getBoolean("loginCheck"),
});

// The one-cluster stack outputs of the Python program (docs/outputs.md), under the same names.
export const region = irsa.region;
export const clusterName = irsa.clusterName;
export const oidcProviderArn = irsa.oidcProviderArn;
export const oidcIssuer = irsa.oidcIssuer;
export const oidcIssuerUrl = irsa.oidcIssuerUrl;
export const glooRoleArn = irsa.glooRoleArn;
export const glooRoleName = irsa.glooRoleName;
export const glooRoleUniqueId = irsa.glooRoleUniqueId;
export const vaultAwsIdentityArn = irsa.vaultAwsIdentityArn;
export const vaultTopology = irsa.vaultTopology;
export const vaultAddress = irsa.vaultAddress;
export const vaultAuthMountPath = irsa.vaultAuthMountPath;
export const vaultKvPath = irsa.vaultKvPath;
export const vaultPolicyName = irsa.vaultPolicyName;
export const vaultRoleName = irsa.vaultRoleName;
export const iamServerIdHeader = irsa.iamServerIdHeader;
export const glooNamespace = irsa.glooNamespace;
export const glooReleaseName = irsa.glooReleaseName;
export const glooChart = irsa.glooChart;
export const glooChartVersion = irsa.glooChartVersion;
export const glooRootKey = irsa.glooRootKey;
export const vaultCaCert = irsa.vaultCaCert;
export const loginCheck = irsa.loginCheck;
