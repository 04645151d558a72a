"""fgaesq.train"""
