"""The shared machinery: the Emulator object, HTTP values and router, clocks, the socket server, TLS, tokens."""
