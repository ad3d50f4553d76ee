"""Tests of the directory adapters (bot/integrations/directory): one contract on slapd, Samba and a fake Graph."""
