"""The shared kernel: wire contract, units, clocks and the `vmi` command."""

__version__ = "0.1.0"
