"""Benchmark of issue 10 in a real Home Assistant (see main.py), and the core benchmark."""
