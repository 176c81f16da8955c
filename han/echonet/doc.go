// Package echonet is ECHONET Lite: the format-1 frame codec, property
// maps, request/reply correlation, the device classes the gateway reads
// and controls, and a client over any [Transport] (Wi-SUN route B and HAN
// via han/wisun, UDP on the LAN via han/wifi/echonetip).
//
// Decoding is pure and bounded: [Decode] checks that every OPC and PDC
// adds up to the frame length exactly and never panics on input.
package echonet
