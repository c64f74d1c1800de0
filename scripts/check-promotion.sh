#!/usr/bin/env bash
# After `pulumi up` of a promoted stack: it holds no image build, and it exports exactly the image ID
# of the stack it promotes from.
#
#   bash scripts/check-promotion.sh STACK FROM_STACK
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: check-promotion.sh STACK FROM_STACK" >&2; exit 2; }
stack=$1 from=$2
# The whole export first: `grep -q` stops reading at its first match, and under pipefail the
# exporter's broken pipe would then count as "not found".
state=$(pulumi stack export --stack "$stack")
if grep -q '"type": *"docker:index/image:Image"' <<<"$state"; then
  echo "check-promotion: $stack holds an image build; a promoted stack must deploy $from's image, not build one" >&2
  exit 1
fi
got=$(pulumi stack output imageId --stack "$stack")
want=$(pulumi stack output imageId --stack "$from")
if [ "$got" != "$want" ]; then
  echo "check-promotion: $stack runs $got, but $from exports $want" >&2
  exit 1
fi
echo "check-promotion: $stack runs $from's image $got, and built nothing"
