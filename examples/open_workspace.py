"""Create a workspace in a temporary folder, open it, and look at its policy and stores."""

import tempfile
from pathlib import Path

from praclox_privacy.services.workspace import Workspace

with tempfile.TemporaryDirectory(prefix="praclox-example-") as tmp:
    root = Path(tmp) / "workspace"
    config = Workspace.init(root)  # praclox-privacy.toml + an SQLite database
    print(f"created {config.name}")

    with Workspace.open(root) as ws:
        print(f"policy of {ws.policy.controller.name}: {len(ws.policy.categories)} categories")
        for name in ws.store_names:
            health = ws.store(name).health()
            print(f"store {name}: {'ok' if health.ok else 'DOWN'} ({health.detail})")
        print(f"audit trail intact: {ws.verify_audit().ok}")
