# SPDX-License-Identifier: GPL-2.0
# A thin wrapper around Kbuild, plus the project's targets.
KDIR ?= /lib/modules/$(shell uname -r)/build
PREFIX ?= /usr

all: module tools

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# Userspace tools (tools/: ephportstat).
tools:
	$(if $(wildcard tools/Makefile),$(MAKE) -C tools)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || \
		find . -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' | xargs rm -f
	rm -rf selftests/out
	rm -f ephport-dkms_*_all.deb ephport-tools_*.deb

install: module tools
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(notdir $(patsubst %/build,%,$(KDIR))) 2>/dev/null || depmod -a
	$(if $(wildcard tools/Makefile),$(MAKE) -C tools install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR))

# Everything: builds for Debian's three kernel lines (6.1, 6.12, 7.x) and
# the debug kernel, KUnit, the selftests on each kernel. Ends with
# "N passed, N failed".
check:
	selftests/vm/check.sh

# Boot a VM, load ephport, make traffic, show the counters (KERNEL=6.1,
# 6.12 or 7.x; default 6.12).
demo:
	selftests/vm/vm.sh --kernel $(or $(KERNEL),6.12) --demo

# What ephport costs: instructions counted in one VM (QEMU -icount), then
# wall-clock times in another, without / observe / random interleaved;
# tables, CSV, JSON and plot in bench/out/, the run for git in
# bench/results-<kernel>.md and bench/budgets' column (bench/README.md).
bench:
	bench/bench.sh --kernel $(or $(KERNEL),6.12)

# The instruction budgets (bench/budgets), checked by a short count on
# each kernel (KERNEL=6.1, 6.12 or 7.x: that one only); KTAP, fails when an
# operation's added instructions exceed their budget by more than half.
bench-check:
	bench/bench.sh --check $(if $(KERNEL),--kernel $(KERNEL),--kernel 6.1 --kernel 6.12)

style:
	selftests/vm/style.sh

# The Debian packages ephport-dkms_<version>_all.deb and
# ephport-tools_<version>_<arch>.deb (debian/), from dkms.conf's version and
# the working tree.
deb:
	debian/build-deb.sh

.PHONY: all module tools clean install check demo bench bench-check style deb
