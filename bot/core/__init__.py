"""The ground floor: messages, typed values, errors, settings and text helpers that every layer may use."""
