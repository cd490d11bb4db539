#!/usr/bin/perl
# A small SMSC built on Net::SMPP (Debian: libnet-smpp-perl), an SMPP implementation we did not
# write, for test/interop/net-smpp.test.ts. One process, one select loop over every connection:
# answers bind_transceiver/transmitter/receiver, submit_sm (with message ids), enquire_link and
# unbind; sends delivery receipts as deliver_sm in the text form only (esm_class 0x04, no TLVs),
# asynchronously; logs one JSON line per event on stdout, never an address.
#
#   perl net-smpp-smsc.pl PORT [--system-id ID] [--password PW] [--throttle N[,M...]]
#                              [--receipt-delay-ms MS] [--receipt-ids same|decimal]
#
# --throttle N      the Nth submit_sm this SMSC receives (counted from 1, across connections) is
#                   answered ESME_RTHROTTLED (0x58); a comma list throttles several.
# --receipt-ids     'decimal' writes the receipt's id: in decimal although submit_sm_resp gave it
#                   in zero-padded upper-case hex (an SMSC habit the client must undo).
# It exits on SIGTERM, or when its stdin closes (the test runner went away).
use strict;
use warnings;
use Getopt::Long qw(GetOptions);
use IO::Select;
use JSON::PP;
use Net::SMPP;
use POSIX qw(strftime);
use Time::HiRes qw(time);

my ($system_id, $password, $throttle, $receipt_delay_ms, $receipt_ids) =
  ('switchboard', 'sekret', '', 50, 'same');
GetOptions(
    'system-id=s'        => \$system_id,
    'password=s'         => \$password,
    'throttle=s'         => \$throttle,
    'receipt-delay-ms=i' => \$receipt_delay_ms,
    'receipt-ids=s'      => \$receipt_ids,
) or die "bad options\n";
my $port = shift @ARGV;
die "usage: $0 PORT [options]\n" unless defined $port && $port =~ /^\d+$/;
my %throttled = map { $_ => 1 } grep { /^\d+$/ } split /,/, $throttle;

use constant {
    ESME_ROK         => 0x00,
    ESME_RINVCMDID   => 0x03,
    ESME_RINVBNDSTS  => 0x04,
    ESME_RALYBND     => 0x05,
    ESME_RBINDFAIL   => 0x0D,
    ESME_RTHROTTLED  => 0x58,
    ESM_CLASS_RECEIPT => 0x04,
};

$| = 1;
my $json = JSON::PP->new->canonical;
sub say_json { print $json->encode({@_}), "\n" }

my $listener = Net::SMPP->new_listen('127.0.0.1', port => $port, async => 1, smpp_version => 0x34)
  or die "cannot listen on 127.0.0.1:$port: $!\n";
my $select = IO::Select->new($listener, \*STDIN);
my %conns;          # fileno => { smpp, mode }
my @receipts;       # { due, fileno, params, message_id }
my $submits = 0;    # every submit_sm received, for --throttle
my $next_id = 0x2A; # message ids: zero-padded upper-case hex

say_json(event => 'listening', port => $listener->sockport);

sub hex_of { my ($bytes) = @_; return defined $bytes ? unpack('H*', $bytes) : undef }

sub yymmddhhmm { return strftime('%y%m%d%H%M', gmtime(shift)) }

sub drop_conn {
    my ($fileno) = @_;
    my $c = delete $conns{$fileno} or return;
    $select->remove($c->{smpp});
    close $c->{smpp};
    say_json(event => 'closed');
}

sub receipt_target {
    my ($preferred) = @_;
    my $ok = sub { my $c = shift; return $c && $c->{mode} && $c->{mode} ne 'transmitter' };
    return $preferred if $ok->($conns{$preferred});
    for my $f (sort keys %conns) { return $f if $ok->($conns{$f}) }
    return undef;
}

sub on_bind {
    my ($fileno, $pdu, $mode) = @_;
    my $c = $conns{$fileno};
    my $status =
        $c->{mode} ? ESME_RALYBND
      : ($pdu->{system_id} eq $system_id && $pdu->{password} eq $password) ? ESME_ROK
      :                                                                    ESME_RBINDFAIL;
    my $resp = "bind_${mode}_resp";
    $c->{smpp}->$resp(seq => $pdu->{seq}, status => $status, system_id => 'netsmpp');
    $c->{mode} = $mode if $status == ESME_ROK;
    say_json(event => "bind_$mode", status => $status, interface_version => $pdu->{interface_version});
}

sub on_submit {
    my ($fileno, $pdu) = @_;
    my $c = $conns{$fileno};
    $submits++;
    my %line = (
        event               => 'submit_sm',
        n                   => $submits,
        data_coding         => $pdu->{data_coding},
        esm_class           => $pdu->{esm_class},
        registered_delivery => $pdu->{registered_delivery},
        short_message       => hex_of($pdu->{short_message}),
    );
    $line{message_payload} = hex_of($pdu->{message_payload}) if defined $pdu->{message_payload};
    # Logged before the answer goes out, so the line is there by the time the client has it.
    my ($status, $id) =
        (!$c->{mode} || $c->{mode} eq 'receiver') ? (ESME_RINVBNDSTS, '')
      : $throttled{$submits}                      ? (ESME_RTHROTTLED, '')
      :                                             (ESME_ROK, sprintf('%010X', $next_id++));
    say_json(%line, status => $status, ($status == ESME_ROK ? (message_id => $id) : ()));
    $c->{smpp}->submit_sm_resp(seq => $pdu->{seq}, status => $status, message_id => $id);
    return if $status != ESME_ROK;
    return unless ($pdu->{registered_delivery} // 0) & 0x01;

    my $now = time;
    my $receipt_id = $receipt_ids eq 'decimal' ? hex($id) : $id;
    my $text = "id:$receipt_id sub:001 dlvrd:001 submit date:" . yymmddhhmm($now)
      . ' done date:' . yymmddhhmm($now) . ' stat:DELIVRD err:000 text:';
    push @receipts, {
        due        => $now + $receipt_delay_ms / 1000,
        fileno     => $fileno,
        message_id => $id,
        receipt_id => "$receipt_id",
        params     => [
            # The handset sends it back: source and destination swap.
            source_addr_ton  => $pdu->{dest_addr_ton},
            source_addr_npi  => $pdu->{dest_addr_npi},
            source_addr      => $pdu->{destination_addr},
            dest_addr_ton    => $pdu->{source_addr_ton},
            dest_addr_npi    => $pdu->{source_addr_npi},
            destination_addr => $pdu->{source_addr},
            esm_class        => ESM_CLASS_RECEIPT,
            data_coding      => 0,
            short_message    => $text,
        ],
    };
}

sub send_due_receipts {
    my $now = time;
    my @later;
    for my $r (sort { $a->{due} <=> $b->{due} } @receipts) {
        my $target = $r->{due} <= $now ? receipt_target($r->{fileno}) : undef;
        if (!defined $target) { push @later, $r; next }
        # async => 1: blocking mode would drop every other PDU while it waits for the resp.
        my $seq = $conns{$target}{smpp}->deliver_sm(@{ $r->{params} }, async => 1);
        $conns{$target}{receipts}{$seq} = $r->{message_id};
        say_json(event => 'deliver_sm', message_id => $r->{message_id}, receipt_id => $r->{receipt_id}, seq => $seq);
    }
    @receipts = @later;
}

sub on_pdu {
    my ($fileno, $pdu) = @_;
    my $c   = $conns{$fileno};
    my $cmd = $pdu->{cmd};
    if    ($cmd == Net::SMPP::CMD_bind_transceiver) { on_bind($fileno, $pdu, 'transceiver') }
    elsif ($cmd == Net::SMPP::CMD_bind_transmitter) { on_bind($fileno, $pdu, 'transmitter') }
    elsif ($cmd == Net::SMPP::CMD_bind_receiver)    { on_bind($fileno, $pdu, 'receiver') }
    elsif ($cmd == Net::SMPP::CMD_submit_sm)        { on_submit($fileno, $pdu) }
    elsif ($cmd == Net::SMPP::CMD_enquire_link) {
        $c->{smpp}->enquire_link_resp(seq => $pdu->{seq});
        say_json(event => 'enquire_link');
    }
    elsif ($cmd == Net::SMPP::CMD_unbind) {
        $c->{smpp}->unbind_resp(seq => $pdu->{seq});
        say_json(event => 'unbind');
        drop_conn($fileno);
    }
    elsif ($cmd == Net::SMPP::CMD_deliver_sm_resp) {
        my $id = delete $c->{receipts}{ $pdu->{seq} };
        say_json(event => 'deliver_sm_resp', status => $pdu->{status}, message_id => $id);
    }
    elsif ($cmd & 0x80000000) {
        say_json(event => 'response', command_id => $cmd, status => $pdu->{status});
    }
    else {
        $c->{smpp}->generic_nack(seq => $pdu->{seq}, status => ESME_RINVCMDID);
        say_json(event => 'generic_nack', command_id => $cmd);
    }
}

$SIG{TERM} = sub { say_json(event => 'stopping'); exit 0 };
$SIG{PIPE} = 'IGNORE';

for (;;) {
    my $next_due;
    for my $r (@receipts) { $next_due = $r->{due} if !defined $next_due || $r->{due} < $next_due }
    my $timeout = defined $next_due ? ($next_due > time ? $next_due - time : 0) : undef;
    # Receipts for a client that is gone wait for the next bind: look again now and then.
    $timeout = 0.1 if @receipts && (!defined $timeout || $timeout > 0.1);
    for my $fh ($select->can_read($timeout)) {
        if (fileno($fh) == fileno(STDIN)) {
            my $n = sysread(STDIN, my $buf, 4096);
            if (!$n) { say_json(event => 'stdin closed'); exit 0 }
            next;
        }
        if ($fh == $listener) {
            my $smpp = $listener->accept or next;
            $conns{ fileno($smpp) } = { smpp => $smpp, mode => undef, receipts => {} };
            $select->add($smpp);
            say_json(event => 'accepted');
            next;
        }
        my $fileno = fileno($fh);
        next unless defined $fileno && $conns{$fileno};
        my $pdu = $fh->read_pdu;
        if (!$pdu) { drop_conn($fileno); next }
        on_pdu($fileno, $pdu);
    }
    send_due_receipts();
}
