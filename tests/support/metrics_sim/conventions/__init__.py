"""Renderers: each turns a simulation's hidden state into the metric families one instrumentation stack exports."""
