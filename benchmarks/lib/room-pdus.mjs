// Every PDU of a room on an engine, in stream order (the room as another server would receive
// it): read from the timeline in pages of 5,000.
/** @param engine a RoomEngine @param roomId the room @returns the PDUs' JSON, oldest first */
export async function roomPdus(engine, roomId) {
  const out = [];
  let from;
  for (;;) {
    const page = await engine.timeline(roomId, { limit: 5000, ...(from !== undefined ? { from } : {}) });
    out.push(...page.map((e) => e.json));
    if (page.length < 5000) return out;
    from = page[page.length - 1].stream + 1;
  }
}
