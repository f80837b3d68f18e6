"""The recurrence as a dynamical system: plain values in (the cell's name,
ONE layer's weights under Keras's names, inputs (B, T, V), lengths), plain
results out. No Config, no files.

- `jacobians`: the NumPy reference's one-step map s_t = F(s_{t-1}, x_t) with
  its analytic Jacobian ∂s_t/∂s_{t-1}, and the states it visits;
- `autodiff`: the same Jacobians by TensorFlow autodiff through the Keras cell;
- `flow`: gradient flow through time, ‖∂s_T/∂s_{T-k}‖_F for k = 1..T, on
  both sides and their relative difference (the check), and the spectral radii;
- `fixed_points`: states with F(s*, x) = s* of a (trained) cell, their stability.

s is the recurrent state: h for SimpleRNN and GRU, [h; c] (2H) for LSTM.
"""
