"""fgaesq.serve"""
