#!/usr/bin/env bash
# Runs a program that registers a kind named like one of lrtune's (see
# tests/cli/kind_collision_main.cpp): one line naming the kind, exit status 2.
set -u
out=$("$1" kinds 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 2 ] || { echo "exit status $rc, not 2"; exit 1; }
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || { echo "not one line"; exit 1; }
printf '%s' "$out" | grep -q "model kind 'reference_cnn' is declared twice: a kind this program registers has the name of one lrtune ships; rename it" ||
  { echo "the line does not name the kind"; exit 1; }
