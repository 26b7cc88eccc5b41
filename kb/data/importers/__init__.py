"""`kb data import`: turn a public results file into CSVs under data/ (see csvfiles for how
files are written, one module per kind of source)."""
