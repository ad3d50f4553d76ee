"""Tests of the knowledge base (bot/integrations/kb): search quality and the retrieval pieces."""
