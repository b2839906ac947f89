// A titled, bordered box: the frame of every part of the full-screen view.
import { Box, Text } from "ink";
import type { ReactNode } from "react";

/** Cells a panel takes around its content: a border and one cell of padding on each side. */
export const PANEL_FRAME_CELLS = 4;

export function Panel({ title, width, active = false, children }: { title: string; width?: number; active?: boolean; children: ReactNode }) {
  return (
    <Box borderStyle="round" borderColor={active ? "cyan" : "gray"} flexDirection="column" paddingX={1} width={width} flexShrink={0}>
      <Text bold color={active ? "cyan" : undefined} wrap="truncate-end">
        {title}
      </Text>
      {children}
    </Box>
  );
}
