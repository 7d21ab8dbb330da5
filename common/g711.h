/* g711: ITU-T G.711 µ-law, the audio Twilio's Media Streams carry (8 kHz, 1 byte/sample).
 * Bias 0x84, clip 32635, bits inverted on the wire. */
#ifndef CALLPIPE_G711_H
#define CALLPIPE_G711_H

#include <stdint.h>

uint8_t g711_ulaw_encode(int16_t sample);
int16_t g711_ulaw_decode(uint8_t code);

#endif
