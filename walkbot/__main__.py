from walkbot.cli import main

raise SystemExit(main())
