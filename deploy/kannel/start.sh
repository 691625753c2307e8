#!/bin/sh
# The bearerbox, the fake SMSC printing what arrives, and the smsbox serving sendsms on 13013.
set -e
bearerbox /etc/kannel/kannel.conf &
sleep 2
/usr/lib/kannel/test/fakesmsc -H 127.0.0.1 -r 10000 -m 0 "0 0 text unused" &
sleep 1
exec smsbox /etc/kannel/kannel.conf
