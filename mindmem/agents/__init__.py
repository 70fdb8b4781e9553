"""The agent surface: MCP server, the seven dispatchers, `mm ask` routing, datasets."""
