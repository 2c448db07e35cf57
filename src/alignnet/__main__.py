"""`python -m alignnet ...` (also what `torchrun -m alignnet` runs)."""

from alignnet.cli.main import main

if __name__ == "__main__":
    main()
