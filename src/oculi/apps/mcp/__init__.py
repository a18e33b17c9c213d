"""Third-party apps over the Model Context Protocol (see docs/apps.md)."""

from __future__ import annotations

from oculi.apps.mcp.app import AppUnavailable, McpApp, mcp_apps

__all__ = ["AppUnavailable", "McpApp", "mcp_apps"]
