"""Facts: commands that observe a host, and parsers that turn their output into typed values."""
