"""One ComponentResource per layer; pure document builders in `documents`."""
