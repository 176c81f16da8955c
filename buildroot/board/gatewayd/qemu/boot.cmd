# U-Boot boot script: RAUC A/B with boot attempt counting. RAUC sets
# BOOT_ORDER and refills BOOT_x_LEFT on install and on mark-good
# (gatewayd runs "rauc status mark-good" after a healthy start); a slot
# that fails three boots in a row is skipped.
test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT 3
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT 3

setenv bootpart
setenv raucslot
for BOOT_SLOT in "${BOOT_ORDER}"; do
  if test "x${bootpart}" != "x"; then
    # a slot is chosen already
  elif test "x${BOOT_SLOT}" = "xA"; then
    if test ${BOOT_A_LEFT} -gt 0; then
      setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
      setenv bootpart "/dev/vda2"
      setenv raucslot "A"
    fi
  elif test "x${BOOT_SLOT}" = "xB"; then
    if test ${BOOT_B_LEFT} -gt 0; then
      setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
      setenv bootpart "/dev/vda3"
      setenv raucslot "B"
    fi
  fi
done

if test -n "${bootpart}"; then
  setenv bootargs "${bootargs} root=${bootpart} rootwait ro rauc.slot=${raucslot}"
  saveenv
else
  echo "No valid slot left: resetting attempt counters"
  setenv BOOT_A_LEFT 3
  setenv BOOT_B_LEFT 3
  saveenv
  reset
fi

load virtio 0:1 ${kernel_addr_r} Image
booti ${kernel_addr_r} - ${fdt_addr}
