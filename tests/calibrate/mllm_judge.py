"""A small stand-in for a multimodal-model judge, used as a real `--mllm-cmd` in the tests.

Reads the series JSON on stdin, opens every image, and answers on stdout:
drop when the images differ in size by more than 20 %, review when the series has a prompt, keep otherwise.
`--fail` exits 3 without a verdict; `--garbage` prints text that is not JSON.
"""

import json
import sys

from PIL import Image

if "--fail" in sys.argv:
    print("model endpoint unreachable", file=sys.stderr)
    sys.exit(3)
if "--garbage" in sys.argv:
    print("I think these look nice")
    sys.exit(0)
job = json.load(sys.stdin)
areas = []
for path in job["images"]:
    with Image.open(path) as im:
        areas.append(im.width * im.height)
if max(areas) > 1.2 * min(areas):
    verdict = {"verdict": "drop", "reason": f"image sizes differ ({min(areas)}..{max(areas)} px)"}
elif job.get("prompt"):
    verdict = {"verdict": "review", "reason": f"check prompt: {job['prompt']}"}
else:
    verdict = {"verdict": "keep", "reason": f"{len(areas)} images of one scene"}
print(json.dumps(verdict))
