"""Tests of the ticket adapters (bot/integrations/tickets): one contract, and Jira on the spec-checked fake."""
