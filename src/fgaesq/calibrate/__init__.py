"""fgaesq.calibrate"""
