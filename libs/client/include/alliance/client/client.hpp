#pragma once
// Umbrella header for the client SDK: Endpoint, HttpsClient, WebSocket, AllianceClient.
#include "alliance/client/alliance_client.hpp"
#include "alliance/client/endpoint.hpp"
#include "alliance/client/https_client.hpp"
#include "alliance/client/web_socket.hpp"
