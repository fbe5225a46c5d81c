#!/bin/sh
# 27-install.sh - make install into a staging directory (DESTDIR): the
# daemon in sbindir, the configuration in sysconfdir/ferryd (never over
# one an operator edited), the unit in systemd's unit directory, the man
# pages; the unit passes systemd-analyze verify and rates 2.0 or better
# on systemd-analyze security; the man pages pass mandoc -T lint.
. "$TESTS_DIR/integration/lib.sh"

R="$T/root"
inst() { ${MAKE:-make} -s -C "$BUILDDIR" install DESTDIR="$R" >>"$T/install.log" 2>&1; }
mk() { ${MAKE:-make} -s -C "$BUILDDIR" "$@" >>"$T/install.log" 2>&1; }
var() {
	${MAKE:-make} -s --no-print-directory -C "$BUILDDIR" -f Makefile -f - print <<EOF2 | grep -v '^make'
print:
	@echo \$($1)
EOF2
}
sbindir=$(var sbindir)
confdir=$(var sysconfdir)/ferryd
unitdir=$(var systemdsystemunitdir)
mandir=$(var mandir)

check "make install DESTDIR= succeeds" inst
check "the daemon in sbindir" test -x "$R$sbindir/ferryd"
check "the configuration in sysconfdir/ferryd" cmp -s "$SRCDIR/conf/ferryd.ini" "$R$confdir/ferryd.ini"
check "the unit in systemd's unit directory ($unitdir)" test -f "$R$unitdir/ferryd.service"
check "ferryd(8) and ferryd.ini(5)" test -f "$R$mandir/man8/ferryd.8" -a -f "$R$mandir/man5/ferryd.ini.5"
check "the unit names this build's paths" grep -qx "ExecStart=$sbindir/ferryd -c $confdir/ferryd.ini" "$R$unitdir/ferryd.service"
check "the installed daemon checks the installed configuration" sh -c \
    '"$1" -t -c "$2" | grep -qx "configuration OK"' - "$R$sbindir/ferryd" "$R$confdir/ferryd.ini"

# An operator's edit survives a reinstall and an uninstall.
echo "; edited" >>"$R$confdir/ferryd.ini"
check "a second install succeeds" inst
check "an edited configuration is kept" grep -q "^; edited" "$R$confdir/ferryd.ini"
check "the shipped one goes beside it" cmp -s "$SRCDIR/conf/ferryd.ini" "$R$confdir/ferryd.ini.dist"
check "make uninstall succeeds" mk uninstall DESTDIR="$R"
check "uninstall keeps the edited configuration" grep -q "^; edited" "$R$confdir/ferryd.ini"
check "uninstall removes the daemon and the unit" sh -c \
    '! test -e "$1" && ! test -e "$2"' - "$R$sbindir/ferryd" "$R$unitdir/ferryd.service"
check "install again" inst

# The unit, with its commands pointing into the staging directory.
sed -e "s|$sbindir/ferryd|$R$sbindir/ferryd|g" -e "s|$confdir/|$R$confdir/|g" \
    "$R$unitdir/ferryd.service" >"$T/ferryd.service"
if command -v systemd-analyze >/dev/null 2>&1; then
	check "systemd-analyze verify" sh -c \
	    'systemd-analyze verify --man=no "$1" >"$2" 2>&1 || { cat "$2"; false; }' \
	    - "$T/ferryd.service" "$T/verify.log"
	systemd-analyze security --offline=yes "$T/ferryd.service" >"$T/security.log" 2>&1 || true
	exposure=$(sed -n 's/.*Overall exposure level for ferryd.service: \([0-9.]*\).*/\1/p' "$T/security.log")
	check "systemd-analyze security rated it ($exposure)" test -n "$exposure"
	check "exposure $exposure is 2.0 or less" awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.0) }'
else
	ok "# SKIP systemd-analyze not installed (Debian: apt-get install systemd)"
fi
if command -v mandoc >/dev/null 2>&1; then
	check "mandoc -T lint: ferryd(8), ferryd.ini(5)" sh -c \
	    'mandoc -T lint -W warning "$1" "$2" >"$3" 2>&1 || { cat "$3"; false; }' \
	    - "$SRCDIR/man/ferryd.8" "$SRCDIR/man/ferryd.ini.5" "$T/mandoc.log"
else
	check "groff -ww: ferryd(8), ferryd.ini(5)" sh -c \
	    'test -z "$(groff -ww -mandoc -z "$1" "$2" 2>&1)"' - \
	    "$SRCDIR/man/ferryd.8" "$SRCDIR/man/ferryd.ini.5"
fi
# Every key the configuration knows has its entry in ferryd.ini(5).
missing=$(sed -n 's/^\([a-z_]*\) *=.*/\1/p' "$SRCDIR/conf/ferryd.ini" | while read -r k; do
	grep -q "^\.It Cm $k " "$SRCDIR/man/ferryd.ini.5" || echo "$k"
done)
check_eq "ferryd.ini(5) documents every key of ferryd.ini" "" "$missing"
finish
