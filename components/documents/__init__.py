"""Pure builders for every document the program deploys, one module per layer. No Pulumi here,
so each one is tested on plain values; the components call them inside `Output.apply`.
"""
