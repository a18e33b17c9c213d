"""`oculi serve`: glasses and the browser emulator reach a session over one WebSocket.

The protocol (`oculi/1`) is documented in docs/protocol.md; `client.DeviceClient` is the Python
device side of it.
"""
