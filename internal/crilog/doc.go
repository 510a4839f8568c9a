// Package crilog writes and reads container log files in the CRI log format
// the kubelet and `kubectl logs` use.
//
// A log file holds one record per line:
//
//	<RFC3339Nano UTC timestamp> <stdout|stderr> <P|F> <content>
//
// for example
//
//	2016-10-06T00:17:09.669794202Z stdout F log content
//
// F marks a full line (its newline is not stored), P a partial one: a line
// longer than MaxLineSize is split into MaxLineSize-byte P records followed
// by an F record with the rest, as containerd does with its default
// max_container_log_line_size; output that ends without a newline is stored
// as P records. A "\r\n" line ending is stored as a line (its "\r" dropped),
// like containerd does.
//
// Writer.Copy turns a container's stdout or stderr into records (the shim
// runs one copier per stream, sharing one Writer per file). Read turns a log
// file back into the container's output, reassembling partial records into
// whole lines, with the tail, since, stream and follow options of
// `kubectl logs`.
package crilog
