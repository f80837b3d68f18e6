"""rnnexp's Hydra plugins. Hydra finds plugins only in the `hydra_plugins`
namespace package, so they live here; what they do is rnnexp.sweep's.

- `sweeper.RnnexpSweeper` (`hydra/sweeper=rnnexp`, rnnexp's default):
  Hydra's basic sweep, launching the points the sweep callback composed and
  checked instead of composing each of them again;
- `launcher.RnnexpLauncher` (`hydra/launcher=rnnexp`, the default): Hydra's
  basic launcher, running those compositions as they are;
- `local_conf.LocalConfSearchPath`: adds `./conf` of the working folder to
  rnnexp's config search path.
"""
