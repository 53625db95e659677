"""The backend's HTTP routers, one module per area (AG-UI events, health, metrics)."""
