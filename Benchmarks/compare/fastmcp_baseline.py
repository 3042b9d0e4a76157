"""The protocol-overhead baseline: a minimal FastMCP server with one trivial tool and no engine.

What it measures is the cost of a Python MCP stack (FastMCP + the official SDK + uvicorn) per
call, with nothing behind it — any Python Qlik MCP server pays at least this much per call.

    python fastmcp_baseline.py http <port>     # Streamable HTTP on 127.0.0.1:<port>/mcp
    python fastmcp_baseline.py stdio
"""
import sys

from fastmcp import FastMCP

mcp = FastMCP("fastmcp-baseline")


@mcp.tool
def get_engine_info() -> dict:
    """Returns a fixed engine description (no engine is contacted)."""
    return {"backend": "none", "engine_version": "baseline", "healthy": True}


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "http":
        mcp.run(transport="http", host="127.0.0.1", port=int(sys.argv[2]), path="/mcp", show_banner=False, log_level="warning")
    else:
        mcp.run(transport="stdio", show_banner=False)
