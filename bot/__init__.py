"""civic-helpdesk: the chat-ops IT helpdesk bot, in layers from core up to the app and its surfaces."""
