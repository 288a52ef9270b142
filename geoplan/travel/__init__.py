"""Travel times: the matrix type, the backend protocol and its backends (straight line,
roads from an OpenStreetMap extract with its contraction hierarchy)."""
