// The one thread that talks to MPI. MPI is initialised on it (MPI_THREAD_FUNNELED: every call
// comes from this thread), then it runs queued jobs in order until finalize. A job returns an
// empty string on success or MPI's message; JavaScript keeps computing while jobs run.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace axmpi {

struct WorldInfo {
  int rank = 0;
  int size = 1;
  int threadLevel = 0;
  std::string error;
};

class CommThread {
 public:
  using Job = std::function<void()>;

  /** Starts the thread, initialises MPI on it and waits for the result. */
  WorldInfo start();
  /** Queues a job (run in order on the MPI thread). */
  void post(Job job);
  /** Queues MPI_Finalize behind every queued job and joins the thread. */
  void finalize();
  bool running() const { return thread_.joinable(); }

 private:
  void loop();

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  bool ready_ = false;
  WorldInfo info_;
};

/** MPI's text for an error code. */
std::string mpiError(int code);

}  // namespace axmpi
