################################################################################
#
# gatewayd
#
################################################################################

# The release tarball made by `make dist` (vendor/ and the built web UI
# inside): Buildroot builds with -mod=vendor and GOPROXY=off, and has no
# npm. Offline: put the tarball into $(BR2_DL_DIR)/gatewayd/ or build a
# checkout with GATEWAYD_OVERRIDE_SRCDIR (see buildroot/README.md).
GATEWAYD_VERSION = 0.9.0
GATEWAYD_SOURCE = gatewayd-$(GATEWAYD_VERSION)-vendored.tar.gz
GATEWAYD_SITE = https://github.com/gatewayd-project/gatewayd/releases/download/v$(GATEWAYD_VERSION)
GATEWAYD_LICENSE = Proprietary
GATEWAYD_GOMOD = github.com/gatewayd-project/gatewayd
GATEWAYD_BUILD_TARGETS = cmd/gatewayd
GATEWAYD_LDFLAGS = -X main.version=$(GATEWAYD_VERSION)
GATEWAYD_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude buildroot/output --exclude web/ui/node_modules --exclude dist --exclude tmp

# Its own user; dialout for the meter's UART and the Wi-SUN module.
GATEWAYD_USERS = gatewayd -1 gatewayd -1 * /var/lib/gatewayd - dialout gatewayd daemon

define GATEWAYD_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(GATEWAYD_PKGDIR)/gatewayd.service \
		$(TARGET_DIR)/usr/lib/systemd/system/gatewayd.service
endef

# What the appliance needs from the kernel: UARTs with RS-485 direction
# control, USB serial adapters, Bluetooth HCI for BLE, a hardware
# watchdog for systemd's RuntimeWatchdogSec, GPIO character devices.
define GATEWAYD_LINUX_CONFIG_FIXUPS
	$(call KCONFIG_ENABLE_OPT,CONFIG_SERIAL_8250)
	$(call KCONFIG_ENABLE_OPT,CONFIG_SERIAL_AMBA_PL011)
	$(call KCONFIG_ENABLE_OPT,CONFIG_USB_SERIAL)
	$(call KCONFIG_ENABLE_OPT,CONFIG_USB_SERIAL_FTDI_SIO)
	$(call KCONFIG_ENABLE_OPT,CONFIG_USB_SERIAL_CP210X)
	$(call KCONFIG_ENABLE_OPT,CONFIG_BT)
	$(call KCONFIG_ENABLE_OPT,CONFIG_BT_LE)
	$(call KCONFIG_ENABLE_OPT,CONFIG_BT_HCIUART)
	$(call KCONFIG_ENABLE_OPT,CONFIG_BT_HCIBTUSB)
	$(call KCONFIG_ENABLE_OPT,CONFIG_WATCHDOG)
	$(call KCONFIG_ENABLE_OPT,CONFIG_GPIO_CDEV)
endef

$(eval $(golang-package))
