"""Services that every skill uses: identity, approvals, audit."""
