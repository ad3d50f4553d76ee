"""What people and scripts touch from outside: the command line, the web server, the dashboard, the health check."""
