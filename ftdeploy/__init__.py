"""ftdeploy: the command-line client of the fine-tune deploy service's HTTP API (provision, deploy, status, ...)."""
