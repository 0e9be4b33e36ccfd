"""The CLI's command groups, one module each; heavy imports happen inside the commands."""
