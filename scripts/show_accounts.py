"""Print a few demo logins per role (for `make run`); the full list: `wangge demo accounts`."""

import json
import os
import subprocess
import sys
from collections import defaultdict

out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "wangge"), "demo", "accounts"],
                     capture_output=True, text=True)
if out.returncode != 0:
    sys.exit(out.returncode)
by_role = defaultdict(list)
for account in json.loads(out.stdout):
    by_role[account["role"]].append(account)
password = "$WANGGE_DEMO_PASSWORD" if os.environ.get("WANGGE_DEMO_PASSWORD") else "demo"
print(f"演示账号 / demo logins (密码 password: {password}; 全部 all: wangge demo accounts)")
for role, accounts in by_role.items():
    shown = ", ".join(f"{a['username']} ({a['scope']})" for a in accounts[:3])
    more = f" … +{len(accounts) - 3}" if len(accounts) > 3 else ""
    print(f"  {role:12s} {shown}{more}")
