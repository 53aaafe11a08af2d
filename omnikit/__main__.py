from omnikit.cli import main

raise SystemExit(main())
