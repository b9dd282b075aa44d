from hydra.cli import console

console()
