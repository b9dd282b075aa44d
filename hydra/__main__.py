from hydra.cli import main

raise SystemExit(main())
