"""Services under the engine: identity, approvals, audit, scheduler, notices, announcements, fan-out."""
