"""Video queries: decode a clip, track the person with MediaPipe, normalise the track into encoder features.

Training-video synthesis (bodies, cameras, the ray tracer, projected landmarks with noise) is its own
package, lavimo_core/synthesis. PyAV and MediaPipe load inside the modules that need them, so
`import lavimo_core.video.features` stays cheap until a video is processed.
"""
