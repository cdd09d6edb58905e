package perfetto

// Field numbers and enum values of Perfetto's trace protos, as published
// in github.com/google/perfetto, protos/perfetto/trace/ (the merged
// perfetto_trace.proto holds them all). Only what Write emits is listed.
const (
	// Trace (trace.proto).
	tracePacket = 1 // repeated TracePacket packet

	// TracePacket (trace_packet.proto).
	packetTimestamp       = 8  // optional uint64 timestamp
	packetSequenceID      = 10 // uint32 trusted_packet_sequence_id
	packetTrackEvent      = 11 // TrackEvent track_event
	packetSequenceFlags   = 13 // optional uint32 sequence_flags
	packetTrackDescriptor = 60 // TrackDescriptor track_descriptor

	// TracePacket.SequenceFlags.
	seqIncrementalStateCleared = 1 // SEQ_INCREMENTAL_STATE_CLEARED

	// TrackDescriptor (track_event/track_descriptor.proto).
	trackUUID             = 1  // optional uint64 uuid
	trackName             = 2  // string name
	trackParentUUID       = 5  // optional uint64 parent_uuid
	trackCounter          = 8  // optional CounterDescriptor counter
	trackChildOrdering    = 11 // optional ChildTracksOrdering child_ordering
	trackSiblingOrderRank = 12 // optional int32 sibling_order_rank
	trackDescription      = 14 // optional string description

	// TrackDescriptor.ChildTracksOrdering.
	childOrderingExplicit = 3 // EXPLICIT: by sibling_order_rank

	// CounterDescriptor (track_event/counter_descriptor.proto).
	counterUnit = 3 // optional Unit unit
	unitCount   = 2 // Unit.UNIT_COUNT

	// TrackEvent (track_event/track_event.proto).
	eventDebugAnnotations   = 4  // repeated DebugAnnotation debug_annotations
	eventType               = 9  // optional Type type
	eventTrackUUID          = 11 // optional uint64 track_uuid
	eventCategories         = 22 // repeated string categories
	eventName               = 23 // string name
	eventCounterValue       = 30 // int64 counter_value
	eventFlowIDs            = 47 // repeated fixed64 flow_ids
	eventTerminatingFlowIDs = 48 // repeated fixed64 terminating_flow_ids

	// TrackEvent.Type.
	typeSliceBegin = 1 // TYPE_SLICE_BEGIN
	typeSliceEnd   = 2 // TYPE_SLICE_END
	typeInstant    = 3 // TYPE_INSTANT
	typeCounter    = 4 // TYPE_COUNTER

	// DebugAnnotation (track_event/debug_annotation.proto).
	annotationBool   = 2  // bool bool_value
	annotationInt    = 4  // int64 int_value
	annotationString = 6  // string string_value
	annotationName   = 10 // string name
)

// sequenceID is the trusted_packet_sequence_id of every packet: the whole
// trace is one sequence, and trace_processor ignores track events that
// have none.
const sequenceID = 1
