"""What a job does for each task, recorded in its run (rnnexp.job picks one):
`forward` (the lesson's forward pass, checked, and any checked forward
result's record), `train`, `generate`, and `dynamics` (the recurrence as a
dynamical system: gradient flow, spectra, fixed points).

Part of the top layer with rnnexp.job: may import every layer below.
"""
